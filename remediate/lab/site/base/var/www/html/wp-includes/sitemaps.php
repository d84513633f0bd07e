<?php
/**
 * WordPress-like lab stub for wp-includes/sitemaps.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'sitemaps.php';
