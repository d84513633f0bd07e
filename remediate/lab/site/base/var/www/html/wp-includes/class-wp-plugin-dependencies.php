<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-plugin-dependencies.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-plugin-dependencies.php';
