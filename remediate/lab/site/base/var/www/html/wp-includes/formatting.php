<?php
/**
 * WordPress-like lab stub for wp-includes/formatting.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'formatting.php';
