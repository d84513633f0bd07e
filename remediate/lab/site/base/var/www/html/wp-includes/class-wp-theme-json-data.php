<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-theme-json-data.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-theme-json-data.php';
