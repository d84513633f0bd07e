<?php
/**
 * WordPress-like lab stub for wp-includes/robots-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'robots-template.php';
