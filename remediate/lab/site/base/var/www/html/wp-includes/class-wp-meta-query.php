<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-meta-query.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-meta-query.php';
