<?php
/**
 * WordPress-like lab stub for wp-includes/meta.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'meta.php';
